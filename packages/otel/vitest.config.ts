import { sseProject } from '../../vitest.shared.ts'

export default sseProject('otel')
