/**
 * Conformance: Content Discovery (OCI Distribution Spec, "Content Discovery": listing tags, listing referrers),
 * plus the catalog (`/v2/_catalog`, Distribution's API) with the same pagination.
 */
import { randomBytes } from 'node:crypto';
import {
  Artifact, Descriptor, OCI_INDEX, OCI_MANIFEST, descriptorOf, jsonBlob, makeArtifact, makeImage, makeIndex, nextLink,
  pushArtifact, pushBlob, pushImage, pushManifest, sha256,
} from '@ocireg/testing';
import { MODES, expectError, expectStatus, mediaTypeOf, useRegistry } from './harness';

jest.setTimeout(30_000);

interface Page<T> {
  items: T[];
  next: string | undefined;
}

/** ASCII ("ASCIIbetical", Go's sort.Strings) order. */
const asciiSorted = (items: string[]) => [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
/** Lexical, "i.e. case-insensitive alphanumeric" order. */
const caseInsensitiveSorted = (items: string[]) =>
  [...items].sort((a, b) => {
    const [x, y] = [a.toLowerCase(), b.toLowerCase()];
    return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
  });

describe.each(MODES)('Content Discovery (%s)', (mode) => {
  const r = useRegistry(mode);

  async function tagsPage(url: string): Promise<Page<string>> {
    const response = await fetch(url);
    await expectStatus(response, 200);
    const body = (await response.json()) as { name: string; tags: string[] };
    return { items: body.tags, next: nextLink(response, url) };
  }

  async function catalogPage(url: string): Promise<Page<string>> {
    const response = await fetch(url);
    await expectStatus(response, 200);
    const body = (await response.json()) as { repositories: string[] };
    return { items: body.repositories, next: nextLink(response, url) };
  }

  /**
   * Follows `Link: <...>; rel="next"` from `first` to the end; checks each page against `n`: at most `n`
   * results, and a Link only when more remain (no empty page after one). Fewer than `n` without a Link is only
   * right at the end ("MAY return fewer than <int> results, but only when the total ... is less than <int> or a
   * Link header is provided"), which the callers check by comparing the pages with the whole list.
   */
  async function walk(first: string, n: number, page: (url: string) => Promise<Page<string>>): Promise<string[][]> {
    const pages: string[][] = [];
    let url: string | undefined = first;
    while (url !== undefined) {
      const current = await page(url);
      expect(current.items.length).toBeLessThanOrEqual(n);
      // A Link promises more results ("The presence of the Link header communicates to the client that the entire
      // result set has not been returned"): the page it leads to is not empty.
      if (pages.length > 0) expect({ followedLink: url, emptyPage: current.items.length === 0 }).toEqual({ followedLink: url, emptyPage: false });
      pages.push(current.items);
      url = current.next;
      expect(pages.length).toBeLessThan(100);
    }
    return pages;
  }

  describe('Listing tags', () => {
    const repo = 'conformance/tags';
    const TAGS = ['v1', 'V2', 'alpha', 'Beta', '_private', '1.0', '1.10', '1.9', 'latest', 'a-b', 'a.b', 'a_b'];
    let all: string[] = [];

    beforeAll(async () => {
      const image = makeImage({ layers: 1, layerSize: 64 });
      await pushImage(r.url, repo, image, TAGS[0] ?? 'v1');
      for (const tag of TAGS.slice(1)) expect((await pushManifest(r.url, repo, tag, image.manifest)).status).toBe(201);
      all = (await tagsPage(`${r.url}/v2/${repo}/tags/list`)).items;
    });

    it('"this request MUST return a 200 OK" with the body {"name": <name>, "tags": [...]} listing every tag', async () => {
      const response = await fetch(`${r.url}/v2/${repo}/tags/list`);
      await expectStatus(response, 200);
      const body = (await response.json()) as { name: string; tags: string[] };
      expect(body.name).toBe(repo);
      expect([...body.tags].sort()).toEqual([...TAGS].sort());
    });

    it('"the tags MUST be in lexical (i.e. case-insensitive alphanumeric order) or ASCIIbetical order"', async () => {
      const { items } = await tagsPage(`${r.url}/v2/${repo}/tags/list`);
      expect([asciiSorted(TAGS), caseInsensitiveSorted(TAGS)]).toContainEqual(items);
    });

    it.each([1, 4, 5, 6, 12])('?n=%i: pages in order, together the whole list, with a Link rel="next" only while more remain', async (n) => {
      const pages = await walk(`${r.url}/v2/${repo}/tags/list?n=${n}`, n, tagsPage);
      expect(pages.flat()).toEqual(all);
    });

    it('the Link header follows RFC 5988: "<url>; rel=\\"next\\"" naming this endpoint, n and last', async () => {
      const response = await fetch(`${r.url}/v2/${repo}/tags/list?n=2`);
      await expectStatus(response, 200);
      const header = response.headers.get('link') ?? '';
      expect(header).toMatch(/^<[^>]+>;\s*rel="next"$/);
      const next = new URL(nextLink(response, r.url) ?? '');
      expect(next.pathname).toBe(`/v2/${repo}/tags/list`);
      expect(next.searchParams.get('n')).toBe('2');
      expect(next.searchParams.get('last')).toBe(all[1]);
    });

    it('?n larger than the number of tags: every tag, and no Link', async () => {
      const page = await tagsPage(`${r.url}/v2/${repo}/tags/list?n=1000`);
      expect(page.items).toEqual(all);
      expect(page.next).toBeUndefined();
    });

    it('"When n is zero, this endpoint MUST return an empty list, and MUST NOT include a Link header"', async () => {
      const page = await tagsPage(`${r.url}/v2/${repo}/tags/list?n=0`);
      expect(page.items).toEqual([]);
      expect(page.next).toBeUndefined();
    });

    it('?last=: "up to <int> tags after <tagname> will be returned", not including it; "When using the last query parameter, the n parameter is OPTIONAL"', async () => {
      const last = all[3] ?? '';
      expect((await tagsPage(`${r.url}/v2/${repo}/tags/list?n=3&last=${encodeURIComponent(last)}`)).items).toEqual(all.slice(4, 7));
      expect((await tagsPage(`${r.url}/v2/${repo}/tags/list?last=${encodeURIComponent(last)}`)).items).toEqual(all.slice(4));
      const end = await tagsPage(`${r.url}/v2/${repo}/tags/list?n=5&last=${encodeURIComponent(all[all.length - 1] ?? '')}`);
      expect(end.items).toEqual([]);
      expect(end.next).toBeUndefined();
    });

    it.each(['-1', 'abc', '1.5', ''])('an invalid n (%j): 400 PAGINATION_NUMBER_INVALID', async (n) => {
      await expectError(await fetch(`${r.url}/v2/${repo}/tags/list?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
    });

    it('an unknown repository: 404 NAME_UNKNOWN', async () => {
      await expectError(await fetch(`${r.url}/v2/conformance/no-such-repo/tags/list`), 404, 'NAME_UNKNOWN');
    });

    it('"The list of tags MAY be empty if there are no tags on the repository": a repository holding only an untagged manifest answers 200 and []', async () => {
      const onlyDigest = makeImage({ layers: 1, layerSize: 32 });
      for (const part of [onlyDigest.config, ...onlyDigest.layers]) expect((await pushBlob(r.url, 'conformance/digest-only', part)).status).toBe(201);
      await expectStatus(await pushManifest(r.url, 'conformance/digest-only', onlyDigest.manifest.digest, onlyDigest.manifest), 201);
      const response = await fetch(`${r.url}/v2/conformance/digest-only/tags/list`);
      await expectStatus(response, 200);
      const body = (await response.json()) as { name: string; tags: string[] };
      expect(body).toEqual({ name: 'conformance/digest-only', tags: [] });
    });
  });

  describe('Listing repositories (/v2/_catalog, same pagination)', () => {
    const prefix = `conformance/catalog-${randomBytes(3).toString('hex')}`;
    const mine = ['a', 'b', 'c', 'd', 'e'].map((s) => `${prefix}/${s}`);
    let all: string[] = [];

    beforeAll(async () => {
      const image = makeImage({ layers: 1, layerSize: 32 });
      for (const name of [...mine].reverse()) await pushImage(r.url, name, image, 'v1');
      all = (await catalogPage(`${r.url}/v2/_catalog`)).items;
    });

    it('GET /v2/_catalog: 200 with {"repositories": [...]} in lexical order, holding every pushed repository', async () => {
      const { items } = await catalogPage(`${r.url}/v2/_catalog`);
      expect(items).toEqual(asciiSorted(items));
      expect(items.filter((name) => name.startsWith(`${prefix}/`))).toEqual(mine);
      expect(new Set(items).size).toBe(items.length);
    });

    it.each([1, 2, 3])('?n=%i: pages following Link rel="next" give the whole catalog, a Link only while more remain', async (n) => {
      const pages = await walk(`${r.url}/v2/_catalog?n=${n}`, n, catalogPage);
      expect(pages.flat()).toEqual(all);
    });

    it('?n= the number of repositories: one page holding them all, and no Link (nothing remains)', async () => {
      const page = await catalogPage(`${r.url}/v2/_catalog?n=${all.length}`);
      expect(page.items).toEqual(all);
      expect(page.next).toBeUndefined();
    });

    it('?n=&last=: the n repositories after last', async () => {
      const page = await catalogPage(`${r.url}/v2/_catalog?n=2&last=${encodeURIComponent(mine[0] ?? '')}`);
      expect(page.items).toEqual(mine.slice(1, 3));
    });

    it('?n=0: an empty list and no Link', async () => {
      const page = await catalogPage(`${r.url}/v2/_catalog?n=0`);
      expect(page.items).toEqual([]);
      expect(page.next).toBeUndefined();
    });

    it.each(['-1', 'x'])('an invalid n (%j): 400 PAGINATION_NUMBER_INVALID', async (n) => {
      await expectError(await fetch(`${r.url}/v2/_catalog?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
    });
  });

  describe('Listing referrers', () => {
    const repo = 'conformance/referrers';
    const subject = makeImage({ layers: 1, layerSize: 128 });
    const other = makeImage({ layers: 1, layerSize: 128 });
    const subjectDescriptor: Descriptor = descriptorOf(subject.manifest, OCI_MANIFEST);
    const SBOM = 'application/vnd.example.sbom.v1+json';
    const SIG_CONFIG = 'application/vnd.example.signature.config.v1+json';

    const sbom = makeArtifact({ artifactType: SBOM, subject: subjectDescriptor, annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z', 'org.example.sbom.format': 'json' } });
    const sbom2 = makeArtifact({ artifactType: SBOM, subject: subjectDescriptor, annotations: { 'org.example.sbom.format': 'spdx' } });
    const signature = makeArtifact({ configMediaType: SIG_CONFIG, subject: subjectDescriptor, annotations: { 'org.example.signature.fingerprint': 'abcd' } });
    const plain = makeArtifact({ artifactType: 'application/vnd.example.plain.v1', subject: subjectDescriptor });
    const indexNoType = makeIndex([other], { subject: subjectDescriptor, annotations: { 'org.opencontainers.image.created': '2023-01-01T07:21:33Z' } });
    const indexTyped = makeIndex([other], { subject: subjectDescriptor, artifactType: 'application/vnd.example.bundle.v1', annotations: { kind: 'bundle' } });
    const unrelated = makeArtifact({ artifactType: SBOM, subject: descriptorOf(other.manifest, OCI_MANIFEST) });
    const elsewhere = makeArtifact({ artifactType: SBOM, subject: subjectDescriptor });

    /** What the referrers list must hold for each referrer of `subject` in `repo`. */
    const expected: Descriptor[] = [
      ...[sbom, sbom2, signature, plain].map((a: Artifact) =>
        descriptorOf(a.manifest, OCI_MANIFEST, { artifactType: a.artifactType ?? a.configMediaType, ...(a.annotations ? { annotations: a.annotations } : {}) }),
      ),
      descriptorOf(indexNoType, OCI_INDEX, { annotations: { 'org.opencontainers.image.created': '2023-01-01T07:21:33Z' } }),
      descriptorOf(indexTyped, OCI_INDEX, { artifactType: 'application/vnd.example.bundle.v1', annotations: { kind: 'bundle' } }),
    ];

    beforeAll(async () => {
      // Referrers first, the subject last: "allowing clients to push a manifest and referrers to that manifest in either order".
      await pushImage(r.url, repo, other, 'other');
      for (const artifact of [sbom, sbom2, signature, plain, unrelated]) expect((await pushArtifact(r.url, repo, artifact, artifact.manifest.digest)).status).toBe(201);
      for (const index of [indexNoType, indexTyped]) expect((await pushManifest(r.url, repo, index.digest, index, OCI_INDEX)).status).toBe(201);
      await pushImage(r.url, repo, subject, 'subject');
      await pushImage(r.url, 'conformance/referrers-elsewhere', subject, 'subject');
      expect((await pushArtifact(r.url, 'conformance/referrers-elsewhere', elsewhere, 'elsewhere')).status).toBe(201);
    });

    interface ReferrersIndex {
      schemaVersion: number;
      mediaType: string;
      manifests: Descriptor[];
    }

    /** Every page of a referrers query (following Link rel="next"), with the first response's headers. */
    async function referrers(name: string, digest: string, query = ''): Promise<{ first: Response; index: ReferrersIndex }> {
      let url: string | undefined = `${r.url}/v2/${name}/referrers/${digest}${query}`;
      let first: Response | undefined;
      let index: ReferrersIndex | undefined;
      while (url !== undefined) {
        const response = await fetch(url);
        await expectStatus(response, 200);
        first ??= response;
        const page = (await response.json()) as ReferrersIndex;
        index = index ? { ...index, manifests: [...index.manifests, ...page.manifests] } : page;
        url = nextLink(response, url);
      }
      if (!first || !index) throw new Error('no referrers response');
      return { first, index };
    }

    const byDigest = (list: Descriptor[]) => [...list].sort((a, b) => (a.digest < b.digest ? -1 : 1));

    /**
     * The fields the spec names (other descriptor fields are allowed and ignored); `annotations` compared only
     * when the referrer has some (an empty object or none are the same for a referrer without annotations).
     */
    const normalised = (list: Descriptor[]) =>
      byDigest(list).map(({ mediaType, digest, size, artifactType, annotations }) => ({
        mediaType,
        digest,
        size,
        ...(artifactType === undefined ? {} : { artifactType }),
        ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
      }));

    it('"this request MUST return a 200 OK" with "Content-Type ... application/vnd.oci.image.index.v1+json" and an image index (schemaVersion 2)', async () => {
      const { first, index } = await referrers(repo, subject.manifest.digest);
      expect(mediaTypeOf(first.headers.get('content-type'))).toBe(OCI_INDEX);
      expect(index.schemaVersion).toBe(2);
      expect(index.mediaType).toBe(OCI_INDEX);
      expect(Array.isArray(index.manifests)).toBe(true);
    });

    it('lists every manifest and index of the repository whose subject is the digest, and nothing else (other subjects, other repositories)', async () => {
      const { index } = await referrers(repo, subject.manifest.digest);
      expect(index.manifests.map((d) => d.digest).sort()).toEqual(expected.map((d) => d.digest).sort());
      expect(index.manifests.map((d) => d.digest)).not.toContain(unrelated.manifest.digest);
      expect(index.manifests.map((d) => d.digest)).not.toContain(elsewhere.manifest.digest);
    });

    it('each descriptor has mediaType, digest, size, artifactType ("set to the config descriptor mediaType" when missing; "omitted" for an index without one) and "annotations from the image manifest or index"', async () => {
      const { index } = await referrers(repo, subject.manifest.digest);
      expect(normalised(index.manifests)).toEqual(normalised(expected));
    });

    it('the descriptors resolve: each digest is a manifest of the repository with that size', async () => {
      const { index } = await referrers(repo, subject.manifest.digest);
      for (const descriptor of index.manifests) {
        const head = await fetch(`${r.url}/v2/${repo}/manifests/${descriptor.digest}`, { method: 'HEAD', headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
        await expectStatus(head, 200);
        expect(head.headers.get('content-length')).toBe(String(descriptor.size));
      }
    });

    it('"A Link header MUST be included in the response when the descriptor list cannot be returned in a single manifest": a large list pages with rel="next", every referrer exactly once', async () => {
      // Referrers with large annotations: their descriptors do not fit in one page of the registry's answer.
      const big = makeImage({ layers: 1, layerSize: 64 });
      await pushImage(r.url, repo, big, 'large-list-subject');
      const pushed: string[] = [];
      for (let i = 0; i < 12; i++) {
        const artifact = makeArtifact({
          artifactType: 'application/vnd.example.large.v1',
          subject: descriptorOf(big.manifest, OCI_MANIFEST),
          annotations: { 'org.example.payload': randomBytes(48 * 1024).toString('hex') },
        });
        expect((await pushArtifact(r.url, repo, artifact, artifact.manifest.digest)).status).toBe(201);
        pushed.push(artifact.manifest.digest);
      }
      const first = await fetch(`${r.url}/v2/${repo}/referrers/${big.manifest.digest}`);
      await expectStatus(first, 200);
      const firstPage = (await first.json()) as ReferrersIndex;
      expect(firstPage.manifests.length).toBeLessThan(pushed.length);
      expect(nextLink(first, first.url)).toBeDefined();
      const { index } = await referrers(repo, big.manifest.digest);
      expect(index.manifests.map((d) => d.digest).sort()).toEqual([...pushed].sort());
    });

    it('?artifactType=: only matching referrers, and "the response MUST include a header OCI-Filters-Applied: artifactType"', async () => {
      const { first, index } = await referrers(repo, subject.manifest.digest, `?artifactType=${encodeURIComponent(SBOM)}`);
      expect(first.headers.get('oci-filters-applied')).toBe('artifactType');
      expect(index.manifests.map((d) => d.digest).sort()).toEqual([sbom.manifest.digest, sbom2.manifest.digest].sort());
    });

    it('?artifactType= matches the artifactType taken from the config media type', async () => {
      const { first, index } = await referrers(repo, subject.manifest.digest, `?artifactType=${encodeURIComponent(SIG_CONFIG)}`);
      expect(first.headers.get('oci-filters-applied')).toBe('artifactType');
      expect(index.manifests.map((d) => d.digest)).toEqual([signature.manifest.digest]);
    });

    it('?artifactType= matching nothing: 200 and "an empty manifest list"', async () => {
      const { first, index } = await referrers(repo, subject.manifest.digest, `?artifactType=${encodeURIComponent('application/vnd.example.none')}`);
      expect(first.headers.get('oci-filters-applied')).toBe('artifactType');
      expect(index.manifests).toEqual([]);
    });

    it('"If a query results in no matching referrers, an empty manifest list MUST be returned": a digest nothing refers to gives 200 and []', async () => {
      const { first, index } = await referrers(repo, sha256(`nothing refers to this ${Math.random()}`));
      expect(mediaTypeOf(first.headers.get('content-type'))).toBe(OCI_INDEX);
      expect(index).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    });

    it('a subject that was never pushed still lists the referrers pushed for it', async () => {
      const ghost = jsonBlob({ ghost: randomBytes(4).toString('hex') });
      const artifact = makeArtifact({ artifactType: SBOM, subject: descriptorOf(ghost, OCI_MANIFEST) });
      expect((await pushArtifact(r.url, repo, artifact, artifact.manifest.digest)).status).toBe(201);
      const { index } = await referrers(repo, ghost.digest);
      expect(index.manifests.map((d) => d.digest)).toEqual([artifact.manifest.digest]);
    });

    it('"Registries MUST include all newly pushed image manifests with a valid subject field": a referrer pushed now is listed at once', async () => {
      const fresh = makeArtifact({ artifactType: 'application/vnd.example.late.v1', subject: descriptorOf(other.manifest, OCI_MANIFEST) });
      const before = await referrers(repo, other.manifest.digest);
      expect((await pushArtifact(r.url, repo, fresh, 'late')).status).toBe(201);
      const after = await referrers(repo, other.manifest.digest);
      expect(after.index.manifests.map((d) => d.digest).sort()).toEqual([...before.index.manifests.map((d) => d.digest), fresh.manifest.digest].sort());
    });

    it('"If the request is invalid, such as a <digest> with an invalid syntax, a 400 Bad Request MUST be returned"', async () => {
      for (const digest of ['sha256:xyz', 'not-a-digest', `sha256:${'A'.repeat(64)}`]) {
        await expectError(await fetch(`${r.url}/v2/${repo}/referrers/${digest}`), 400, 'DIGEST_INVALID');
      }
    });
  });
});
