// The suite of ../stream.test.ts on NestJS 11 (test/nest11-plugin.ts).
import '../stream.test'
