import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const src = new URL('../src/', import.meta.url)

describe('the sources', () => {
  it('are runtime-neutral: no node: module, no Buffer, no process', () => {
    const files = readdirSync(src)
    expect(files.length).toBeGreaterThan(5)
    for (const file of files) {
      // Code only: prose in a comment ("it would crash a Node.js process.") is not a use.
      const text = readFileSync(new URL(file, src), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '')
      expect(text, file).not.toMatch(/from 'node:|\bBuffer\b|\bprocess\./)
    }
  })
})
