export {
  CATALOG_ACCESS,
  REPOSITORY_ACTIONS,
  ScopeError,
  formatScope,
  formatScopes,
  hasAccess,
  isResourceName,
  mergeAccess,
  missingAccess,
  parseScope,
  parseScopes,
} from './scope';
export type { Access, RepositoryAction, ResourceType } from './scope';
export { Htpasswd, HtpasswdError, hashPassword, parseHtpasswd } from './htpasswd';
export { Policy, defaultPolicy, parsePolicy } from './policy';
export type { Audience, PolicyDefinition, PolicyRule, Subject } from './policy';
export { PolicyError } from './policy-document';
export { compileGlob, globProblem } from './glob';
export type { RepositoryMatcher } from './glob';
export { ASYMMETRIC_ALGORITHMS, isSigningAlgorithm, jwkThumbprint } from './keys';
export type { SigningAlgorithm } from './keys';
export { InvalidTokenError, REFRESH_TOKEN_USE, TOKEN_USE_CLAIM } from './token-claims';
export type { InvalidTokenReason } from './token-claims';
export { TokenIssuer } from './token-issuer';
export type { IssuedToken, PublicJwk, RefreshTokenClaims, TokenIssuerOptions } from './token-issuer';
export { TokenVerifier } from './token-verifier';
export type { TokenVerifierOptions, VerifiedToken } from './token-verifier';
export { accessDetail, basicChallenge, bearerChallenge } from './challenge';
export type { AccessDetail, BearerChallengeParams, BearerError } from './challenge';
