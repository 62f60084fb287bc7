import type { PrismaClient } from './db.js';
import { createLoaders, type Loaders } from './loaders/index.js';

/** Per-request GraphQL context. */
export interface Context {
  /** Used by plugin-prisma's query planning and by the domain functions in `resolvers/`. */
  readonly prisma: PrismaClient;
  /** Request-scoped DataLoaders: a fresh set per request, so nothing is cached across callers. */
  readonly loaders: Loaders;
  /** The authenticated caller, or null for an anonymous request. */
  readonly viewer: Viewer | null;
}

export interface Viewer {
  /** The token's subject: a user's id (UUID), whether or not that user row exists. */
  readonly userId: string;
  readonly role: 'USER' | 'ADMIN';
}

export function createContext(prisma: PrismaClient, viewer: Viewer | null = null): Context {
  return { prisma, loaders: createLoaders(prisma), viewer };
}
