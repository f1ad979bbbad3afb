import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const src = new URL('../src/', import.meta.url)
// An import statement, not a usage example in a doc comment.
const NODE_IMPORT = /^import .* from 'node:/m

/** The files the main entry reaches through its relative imports. */
function reachable(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen
  seen.add(file)
  const text = readFileSync(new URL(file, src), 'utf8')
  for (const [, path] of text.matchAll(/from '\.\/([\w-]+)'/g)) reachable(`${path}.ts`, seen)
  return seen
}

describe.each(['index.ts', 'adapter.ts'])('the entry %s', (entry) => {
  it('is runtime-neutral: nothing it imports uses a node: module', () => {
    const files = reachable(entry)
    expect(files.size).toBeGreaterThan(5)
    for (const file of files) {
      expect(readFileSync(new URL(file, src), 'utf8'), file).not.toMatch(NODE_IMPORT)
    }
    // The node: imports live only in the node:http and node:http2 connections.
    const withNode = readdirSync(src).filter((f) =>
      NODE_IMPORT.test(readFileSync(new URL(f, src), 'utf8')),
    )
    expect(withNode.sort()).toEqual(['chunked.ts', 'http2-sink.ts', 'node-sink.ts', 'node.ts'])
  })
})
