// The suite of ../conformance-express.test.ts on NestJS 11 (test/nest11-plugin.ts).
import '../conformance-express.test'
