import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Dependency directions, enforced: apps never import apps; the gateway never reaches data-access libs;
 * adapters depend only on their port; ports and domain libs depend on nothing that does I/O. */
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:port', 'type:adapter', 'type:feature', 'type:composition'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:testing'] },
  { sourceTag: 'type:composition', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:port', 'type:adapter', 'type:feature', 'type:composition'] },
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:port'] },
  { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:port'] },
  { sourceTag: 'type:port', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:port'] },
  { sourceTag: 'type:testsuite', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:port', 'type:testing'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
  { sourceTag: 'scope:gateway', notDependOnLibsWithTags: ['scope:data', 'scope:service'] },
  { sourceTag: 'scope:service', notDependOnLibsWithTags: ['scope:gateway'] },
];

export default [
  { ignores: ['**/dist', '**/node_modules', '**/.nx', 'tmp', 'data', 'coverage', '**/*.cjs', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests of a lib may use the testsuites and testing helpers of any layer.
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, depConstraints: [{ sourceTag: '*', onlyDependOnLibsWithTags: ['*'] }] }] },
  },
];
