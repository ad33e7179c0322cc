import { acceptedTypes } from './content-negotiation';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

describe('acceptedTypes', () => {
  it('reads the types of one header or several, lower-cased, without parameters', () => {
    expect(acceptedTypes(`${OCI_MANIFEST}, ${DOCKER_MANIFEST.toUpperCase()};q=0.5`)).toEqual(new Set([OCI_MANIFEST, DOCKER_MANIFEST]));
    expect(acceptedTypes([OCI_MANIFEST, DOCKER_MANIFEST])).toEqual(new Set([OCI_MANIFEST, DOCKER_MANIFEST]));
  });

  it('refuses types with q=0, and accepts anything without a header or with a wildcard', () => {
    expect(acceptedTypes(`${OCI_MANIFEST};q=0, ${DOCKER_MANIFEST}`)).toEqual(new Set([DOCKER_MANIFEST]));
    expect(acceptedTypes(`${OCI_MANIFEST};q=0.0`)).toBeUndefined();
    expect(acceptedTypes(undefined)).toBeUndefined();
    expect(acceptedTypes(`${OCI_MANIFEST}, */*`)).toBeUndefined();
    expect(acceptedTypes('application/*')).toBeUndefined();
  });

  it('answers a header seen before as the first time, and each header by its own value', () => {
    const headers = [OCI_MANIFEST, `${OCI_MANIFEST};q=0`, DOCKER_MANIFEST, '*/*', `${OCI_MANIFEST},${DOCKER_MANIFEST}`];
    const first = headers.map((header) => acceptedTypes(header));
    for (let round = 0; round < 3; round++) {
      expect(headers.map((header) => acceptedTypes(header))).toEqual(first);
    }
    expect(first).toEqual([new Set([OCI_MANIFEST]), undefined, new Set([DOCKER_MANIFEST]), undefined, new Set([OCI_MANIFEST, DOCKER_MANIFEST])]);
    // Many distinct headers (a client varying them) do not change the answers.
    for (let i = 0; i < 1000; i++) acceptedTypes(`application/x-${i}`);
    expect(acceptedTypes(DOCKER_MANIFEST)).toEqual(new Set([DOCKER_MANIFEST]));
    expect(acceptedTypes('application/x-999')).toEqual(new Set(['application/x-999']));
  });
});
