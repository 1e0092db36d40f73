// The benchmark's yardstick: the most a chat room can do on this runtime.
//
// One Durable Object per room (GET /room/:id, a WebSocket upgrade) accepts hibernatable
// sockets, greets each with {"type":"welcome"} and relays every text frame it receives,
// verbatim, to every socket of the room, the sender included. It stores nothing, checks
// nothing and answers "ping" with "pong" without waking up. edgechat does the same work
// plus validation, ordering, presence and durable history; bench/README.md explains how
// the two are compared.
import { DurableObject } from 'cloudflare:workers';

const WELCOME = JSON.stringify({ type: 'welcome' });

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === '/api/rooms') {
      // Answered so that tooling polling edgechat's /api/rooms sees this server as ready.
      return Response.json({ rooms: [] });
    }
    const match = pathname.match(/^\/room\/([^/]+)$/);
    if (!match) return new Response('not found', { status: 404 });
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    const room = env.ROOMS.get(env.ROOMS.idFromName(match[1]));
    return room.fetch(request);
  },
};

export class CeilingRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    // Answered by the runtime itself: a ping never wakes the object.
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    // CEILING_LOG=sqlite (wrangler dev --var CEILING_LOG:sqlite) makes each frame one row
    // in the object's SQLite storage before it is relayed, with edgechat's log schema: the
    // cost of a durable write per message, alone. Off by default.
    this.log = env.CEILING_LOG === 'sqlite';
    if (this.log) {
      this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY,
        name TEXT NOT NULL, name_key TEXT NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL,
        client_id TEXT, reply_to INTEGER);
        CREATE UNIQUE INDEX IF NOT EXISTS log_client ON log (name_key, client_id)`);
      this.seq = this.ctx.storage.sql.exec('SELECT COALESCE(MAX(seq), 0) AS last FROM log').one().last;
    }
  }

  async fetch() {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.send(WELCOME);
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(_ws, message) {
    if (typeof message !== 'string') return;
    if (this.log) {
      let frame;
      try {
        frame = JSON.parse(message);
      } catch {
        frame = {};
      }
      this.seq += 1;
      this.ctx.storage.sql.exec(
        'INSERT INTO log (seq, name, name_key, text, ts, client_id, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (name_key, client_id) DO NOTHING',
        this.seq, 'someone', 'someone', String(frame.text ?? ''), Date.now(), String(frame.client_id ?? this.seq), null,
      );
    }
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(message);
      } catch {
        // Closing under us: its webSocketClose will follow.
      }
    }
  }

  webSocketClose(ws, code, reason) {
    // 1005 and 1006 describe a missing status and may not be sent back.
    const status = code === 1005 || code === 1006 ? 1000 : code;
    try {
      ws.close(status, reason);
    } catch {
      // Already closed (e.g. the runtime answered the close itself).
    }
  }
}
