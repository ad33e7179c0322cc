export { runGateway, startGateway, drain } from './run-gateway';
export { InstrumentedRpc } from './instrumented-rpc';
export { instrumentHttp } from './http-metrics';
