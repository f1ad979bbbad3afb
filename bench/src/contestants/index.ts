import type { StartContestant } from '../protocol.ts'

/**
 * One server under test. `ours` marks our adapters; `resume` those that replay on reconnect;
 * `throughput` those also run at a high event rate (coalescing, and the floor for reference).
 */
export interface Entry {
  name: string
  ours: boolean
  resume: boolean
  throughput: boolean
  load: () => Promise<StartContestant>
}

const entry = (
  name: string,
  ours: boolean,
  resume: boolean,
  file: string,
  throughput = false,
): Entry => ({
  name,
  ours,
  resume,
  throughput,
  load: async () => (await import(`./${file}.ts`)).default as StartContestant,
})

/** Every contestant, the raw floor first. */
export const contestants: Entry[] = [
  entry('raw node:http', false, false, 'raw', true),
  entry('@sse/core (node:http)', true, true, 'core', true),
  entry('@sse/core (coalesce: false)', true, true, 'core-direct', true),
  entry('@sse/core + @sse/otel', true, true, 'core-otel'),
  entry('@sse/express', true, true, 'express'),
  entry('@sse/fastify', true, true, 'fastify'),
  entry('@sse/koa', true, true, 'koa'),
  entry('@sse/hono (Node)', true, true, 'hono'),
  entry('@sse/nestjs', true, true, 'nestjs'),
  entry('better-sse', false, false, 'better-sse'),
  entry('hono streamSSE', false, false, 'hono-streamsse'),
  entry('@fastify/sse', false, true, 'fastify-sse'),
  entry('NestJS @Sse()', false, false, 'nest-builtin'),
]
