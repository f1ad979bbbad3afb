// Preloaded (node --require) into every README program the check runs. README examples listen
// on a fixed port (3000) as written; on a machine shared with other servers that port may be
// taken, so a TCP listen on a given port is moved to a free one (port 0), and the port actually
// bound is sent to the harness over the IPC channel, which then knows where to connect.
const net = require('node:net')

const listen = net.Server.prototype.listen
let reported = false

net.Server.prototype.listen = function (...args) {
  const [first] = args
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    args[0] = 0
  } else if (first && typeof first === 'object' && 'port' in first) {
    args[0] = { ...first, port: 0 }
  }
  this.once('listening', () => {
    if (reported || !process.send) return
    reported = true
    const address = this.address()
    if (address && typeof address === 'object')
      process.send({ port: address.port, address: address.address })
  })
  return listen.apply(this, args)
}
