/** Hono environment shared by every route: per-request variables set by middleware. */
import type { Principal } from "../services/auth-service.js";

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
  };
}
