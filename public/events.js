// A tiny synchronous dispatch, so that a low module can tell a higher one something
// without importing it (which would make an import cycle): the socket tells the app a
// frame came or the room removed us, rooms.js and dms.js that a room was left, a dropped
// pending message that the ones it held back may go. `app.js` wires the listeners.
//
// Events: 'frame' (data), 'socket-lost' (), 'removed' (room, why), 'refused' (room,
// error, field), 'route' (), 'open-room-left' (room), 'dm-left' (room), 'released' ().

const listeners = new Map();

export function on(name, listener) {
  if (!listeners.has(name)) listeners.set(name, []);
  listeners.get(name).push(listener);
}

export function emit(name, ...args) {
  for (const listener of listeners.get(name) ?? []) listener(...args);
}
