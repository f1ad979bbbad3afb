/** A page's visibility, where the client runs in one (a browser tab, not a worker or a server). */
export interface Page {
  readonly hidden: boolean
  /** Calls `listener` on every visibility change; returns the function that stops it. */
  onChange(listener: () => void): () => void
}

interface DocumentLike {
  visibilityState?: string
  addEventListener(type: string, listener: () => void): void
  removeEventListener(type: string, listener: () => void): void
}

/** The page the client runs in, or undefined outside one. */
export function currentPage(): Page | undefined {
  const doc = (globalThis as { document?: DocumentLike }).document
  if (!doc || typeof doc.addEventListener !== 'function' || !('visibilityState' in doc)) return
  return {
    get hidden() {
      return doc.visibilityState === 'hidden'
    },
    onChange(listener) {
      doc.addEventListener('visibilitychange', listener)
      return () => doc.removeEventListener('visibilitychange', listener)
    },
  }
}

/** Resolves once the page is visible, or at once when `signal` aborts. */
export function untilVisible(page: Page, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (!page.hidden || signal.aborted) return resolve()
    const done = () => {
      if (page.hidden && !signal.aborted) return
      off()
      signal.removeEventListener('abort', done)
      resolve()
    }
    const off = page.onChange(done)
    signal.addEventListener('abort', done, { once: true })
  })
}
