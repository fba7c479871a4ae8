/** The audit trail of admin writes: who (key id) changed what, with before and after. */
import type { AuditAction, AuditEntity, AuditStore } from "../store/ports.js";
import type { Logger } from "../telemetry/logger.js";

export interface AuditRecordInput {
  actor: string;
  action: AuditAction;
  entity: AuditEntity;
  id: string;
  before: unknown;
  after: unknown;
}

export interface AuditService {
  /** Appends an entry. A failure is logged loudly and rethrown: a write without its trail is a bug. */
  record(input: AuditRecordInput): Promise<void>;
  list: AuditStore["list"];
}

export function createAuditService(deps: { store: AuditStore; clock: () => number; logger: Logger }): AuditService {
  return {
    async record(input) {
      try {
        await deps.store.append({ at: new Date(deps.clock()).toISOString(), ...input });
      } catch (err) {
        deps.logger.error({ err, action: input.action, entity: input.entity, id: input.id }, "audit append failed");
        throw err;
      }
    },
    list: (query) => deps.store.list(query),
  };
}
