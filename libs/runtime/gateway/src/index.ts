export { runGateway, startGateway } from './run-gateway';
