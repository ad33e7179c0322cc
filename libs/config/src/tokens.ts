/** Dependency-injection tokens shared by the feature modules and the composition root. */
export const Tokens = {
  config: 'ocireg:RegistryConfig',
  metadata: 'ocireg:Metadata',
  contentStore: 'ocireg:ContentStore',
  uploadSessions: 'ocireg:UploadSessionStore',
  rpc: 'ocireg:RegistryRpcClient',
  accessControl: 'ocireg:AccessControl',
  tokenServer: 'ocireg:TokenServer',
} as const;
