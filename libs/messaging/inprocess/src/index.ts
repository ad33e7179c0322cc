export { InProcessTransport } from './inprocess-transport';
export { InProcessServer, IN_PROCESS_TRANSPORT } from './in-process-server';
export { InProcessClient, ClientClosedError } from './in-process-client';
export { InProcessContext } from './in-process-context';
