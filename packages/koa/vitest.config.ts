import { sseProject } from '../../vitest.shared'

export default sseProject('koa')
