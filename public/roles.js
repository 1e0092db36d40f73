// Who owns and who moderates the room (from the welcome and `roles` frames), what that
// lets us do, and the moderation requests we send. The owner and the moderators kick,
// ban, unban and delete; the owner also appoints and dismisses moderators. Nobody
// moderates a direct message.

import { state, key, myName } from './state.js';
import { el } from './dom.js';
import { isDmRoom } from './protocol.js';
import { sendFrame } from './socket.js';
import { updateRoomEdit } from './rooms.js';

export const isModerator = () => !isDmRoom(state.room) && (state.role === 'owner' || state.role === 'moderator');
export const isOwnerName = (name) => Boolean(state.owner) && key(name) === key(state.owner);
export const isModeratorName = (name) => state.moderators.some((m) => key(m) === key(name));

/** Whether we may kick, ban or delete the messages of `name`: the owner anyone but
 *  themselves, a moderator anyone but the owner and the other moderators. */
export function canModerate(name) {
  if (!isModerator() || key(name) === key(myName())) return false;
  return state.role === 'owner' || (!isOwnerName(name) && !isModeratorName(name));
}

/** Takes the room's roles (welcome, `roles` frame); our own role comes from the server's
 *  `role` when given, else from comparing folded names. */
export function setRoles(owner, moderators, role) {
  state.owner = typeof owner === 'string' && owner ? owner : null;
  state.moderators = (Array.isArray(moderators) ? moderators : []).filter((m) => typeof m === 'string');
  const me = key(myName());
  const derived = state.owner && key(state.owner) === me ? 'owner' : state.moderators.some((m) => key(m) === me) ? 'moderator' : null;
  state.role = role === 'owner' || role === 'moderator' || role === null ? role : derived;
  if (isDmRoom(state.room)) state.role = null;
  renderRoles();
}

/** The roles line of the people panel, the owner's "Edit", and the controls that depend on them. */
export function renderRoles() {
  const parts = [];
  if (state.owner) parts.push(`Owner: ${state.owner}`);
  if (state.moderators.length) parts.push(`${state.moderators.length === 1 ? 'Moderator' : 'Moderators'}: ${state.moderators.join(', ')}`);
  el.roomRoles.textContent = parts.join(' · ');
  el.roomRoles.hidden = parts.length === 0;
  updateRoomEdit();
}

export function appoint(name) {
  sendFrame({ type: 'appoint', name });
}

export function dismiss(name) {
  sendFrame({ type: 'dismiss', name });
}

export function kick(name) {
  sendFrame({ type: 'kick', name });
}

export function ban(name) {
  const minutes = Number(window.prompt(`Ban ${name} from #${state.room} for how many minutes?`, '60'));
  if (!Number.isInteger(minutes) || minutes < 1) return;
  const reason = (window.prompt('Reason (optional, everyone sees it):', '') || '').trim();
  sendFrame({ type: 'ban', name, minutes, ...(reason ? { reason } : {}) });
}

export function unban(name) {
  sendFrame({ type: 'unban', name });
}
