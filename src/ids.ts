import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';

/** Types that carry a Relay global ID. */
export type NodeType = 'User' | 'Team';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NODE_TYPES: ReadonlySet<string> = new Set<NodeType>(['User', 'Team']);

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function toGlobalId(type: NodeType, id: string): string {
  return encodeGlobalID(type, id);
}

/**
 * Decodes a global ID without throwing: anything that is not `<known type>:<uuid>` in base64 gives
 * null, so garbage never reaches the database (where a malformed UUID would be an internal error).
 */
export function parseGlobalId(globalId: string): { type: NodeType; id: string } | null {
  try {
    const { typename, id } = decodeGlobalID(globalId);
    if (!NODE_TYPES.has(typename) || !isUuid(id)) return null;
    return { type: typename as NodeType, id: id.toLowerCase() };
  } catch {
    return null;
  }
}

/** The database id inside `globalId` when it names an entity of `type`, otherwise null. */
export function parseGlobalIdOf(type: NodeType, globalId: string): string | null {
  const parsed = parseGlobalId(globalId);
  return parsed?.type === type ? parsed.id : null;
}
