export { createGateway } from './create-gateway';
export type { GatewayTls } from './create-gateway';
export { GatewayModule } from './gateway.module';
export type { GatewayDeps } from './gateway.module';
