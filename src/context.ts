import type { PrismaClient } from './db.js';
import { createLoaders, type Loaders } from './loaders/index.js';

/** Per-request GraphQL context. */
export interface Context {
  /** Used by plugin-prisma's query planning and by the domain functions in `resolvers/`. */
  readonly prisma: PrismaClient;
  /** Request-scoped DataLoaders: a fresh set per request, so nothing is cached across callers. */
  readonly loaders: Loaders;
}

export function createContext(prisma: PrismaClient): Context {
  return { prisma, loaders: createLoaders(prisma) };
}
