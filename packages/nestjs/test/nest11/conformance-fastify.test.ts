// The suite of ../conformance-fastify.test.ts on NestJS 11 (test/nest11-plugin.ts).
import '../conformance-fastify.test'
