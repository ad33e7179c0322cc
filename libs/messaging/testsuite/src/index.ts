export { describeTransportContract } from './transport-contract';
export type { TransportContractSubject } from './transport-contract';
export { contractModule, contractPatterns, isPlainError } from './contract-app';
export type { ContractLog, PlainError } from './contract-app';
