// koa2 is an npm alias of koa@2, which ships no types; @types/koa describes both majors.
declare module 'koa2' {
  import Koa from 'koa'
  export default Koa
}
