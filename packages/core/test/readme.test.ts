import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The names the main entry exports, as the compiler sees them (types included). */
function exportsOf(file: string): string[] {
  const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true })
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)!
  const module = checker.getSymbolAtLocation(source)!
  return checker.getExportsOfModule(module).map((symbol) => symbol.name)
}

describe('the README of @sse/core', () => {
  it('documents every export of the main entry', () => {
    const names = exportsOf(entry)
    expect(names.length).toBeGreaterThan(20)
    const missing = names.filter((name) => !readme.includes(`\`${name}\``))
    expect(missing, 'exports the README never names in backticks').toEqual([])
  })
})
