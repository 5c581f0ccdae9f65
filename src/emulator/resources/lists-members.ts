/**
 * List membership. `state.memberships` holds, per list, profile id → joined-at in joining order; pagination
 * needs more than a position in that order, since positions shift when a member leaves and a keyset cursor
 * built on them would then skip rows. Each membership gets a sequence number the first time it is seen,
 * kept beside the state (not in it, so snapshots stay as they are) and rebuilt from the joining order.
 */
import type { EmulatorState, ProfileRow } from "../state.js";
import { isoNow } from "../store.js";

interface Order {
  next: number;
  readonly seqs: Map<string, { seq: number; joined: string }>;
}

const orders = new WeakMap<Map<string, string>, Order>();

/** One member of a list, as Get Profiles for List serves it. */
export interface MemberRow {
  /** The profile's id. */
  readonly id: string;
  /** Joining order, stable for as long as the profile stays in the list. */
  readonly seq: number;
  readonly attributes: Record<string, unknown>;
  readonly profile: ProfileRow;
  readonly joined: string;
}

function orderOf(members: Map<string, string>): Order {
  let order = orders.get(members);
  if (!order) {
    order = { next: 1, seqs: new Map() };
    orders.set(members, order);
  }
  // Members appended since the last look get the next numbers, in joining order. A member that left and came
  // back has a new joined-at, so it is numbered again (at the end, where it now is).
  for (const [profileId, joined] of members) {
    const known = order.seqs.get(profileId);
    if (!known || known.joined !== joined) order.seqs.set(profileId, { seq: order.next++, joined });
  }
  if (order.seqs.size > members.size) {
    for (const profileId of order.seqs.keys()) if (!members.has(profileId)) order.seqs.delete(profileId);
  }
  return order;
}

/** The list's members that still exist, in joining order. */
export function listMembers(state: EmulatorState, listId: string): MemberRow[] {
  const members = state.memberships.get(listId);
  if (!members) return [];
  const order = orderOf(members);
  const rows: MemberRow[] = [];
  for (const [profileId, joined] of members) {
    const profile = state.profiles.get(profileId);
    const seq = order.seqs.get(profileId)?.seq;
    if (!profile || seq === undefined) continue;
    rows.push({ id: profileId, seq, attributes: profile.attributes, profile, joined });
  }
  return rows;
}

/** How many existing profiles are in the list (`profile_count`). */
export function memberCount(state: EmulatorState, listId: string): number {
  let count = 0;
  for (const profileId of state.memberships.get(listId)?.keys() ?? []) {
    if (state.profiles.get(profileId)) count++;
  }
  return count;
}

/** Adds a profile to a list; one already in it keeps its original joined-at. Returns whether it joined now. */
export function addMember(
  state: EmulatorState,
  listId: string,
  profileId: string,
  now = Date.now(),
): boolean {
  let members = state.memberships.get(listId);
  if (!members) {
    members = new Map();
    state.memberships.set(listId, members);
  }
  if (members.has(profileId)) return false;
  members.set(profileId, isoNow(now));
  return true;
}

/** Removes a profile from a list; returns whether it was a member. */
export function removeMember(state: EmulatorState, listId: string, profileId: string): boolean {
  return state.memberships.get(listId)?.delete(profileId) ?? false;
}

/** Whether the profile is in the list. */
export function isMember(state: EmulatorState, listId: string, profileId: string): boolean {
  return state.memberships.get(listId)?.has(profileId) ?? false;
}

/** The ids of the lists a profile belongs to, in list creation order. */
export function listIdsOf(state: EmulatorState, profileId: string): string[] {
  const ids: string[] = [];
  for (const list of state.lists.values()) if (isMember(state, list.id, profileId)) ids.push(list.id);
  return ids;
}
