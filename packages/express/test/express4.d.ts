// express4 is an npm alias of express@4, which ships no types; @types/express describes both.
declare module 'express4' {
  import express from 'express'
  export default express
}
