// The suite of ../conformance-fastify-h2c.test.ts on NestJS 11 (test/nest11-plugin.ts).
import '../conformance-fastify-h2c.test'
