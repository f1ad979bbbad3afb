import { coreNodeTarget, runConformance } from '../../test-utils/src/index'

runConformance(coreNodeTarget())
runConformance(coreNodeTarget({ http2: true }))
