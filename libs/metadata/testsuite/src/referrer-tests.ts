import type { MetadataContext } from './store-context';
import { digestOf, pushImage, recordOf } from './fixtures';

const SBOM = 'application/vnd.example.sbom';
const SIGNATURE = 'application/vnd.example.signature';

export function defineReferrerTests(ctx: MetadataContext): void {
  const manifests = () => ctx.metadata.manifests;

  describe('ManifestMetadata: referrers', () => {
    it('lists the manifests of the repository that refer to a subject, optionally by artifact type', async () => {
      const subject = await pushImage(ctx.metadata, 'library/a', 'subject', { tag: 'v1' });
      const sbom = await pushImage(ctx.metadata, 'library/a', 'sbom', { subject: subject.digest, artifactType: SBOM });
      const signature = await pushImage(ctx.metadata, 'library/a', 'signature', {
        subject: subject.digest,
        artifactType: SIGNATURE,
        annotations: { signer: 'ci' },
      });
      await pushImage(ctx.metadata, 'library/b', 'elsewhere', { subject: subject.digest, artifactType: SBOM });

      const all = await manifests().listReferrers('library/a', subject.digest);
      const expected = [recordOf(sbom), recordOf(signature)].sort((x, y) => (x.digest < y.digest ? -1 : 1));
      expect(all).toEqual(expected);
      expect(await manifests().listReferrers('library/a', subject.digest, { artifactType: SBOM })).toEqual([recordOf(sbom)]);
      expect(await manifests().listReferrers('library/a', subject.digest, { artifactType: 'application/none' })).toEqual([]);
      expect(await manifests().listReferrers('library/a', digestOf('unknown'))).toEqual([]);
      expect(await manifests().listReferrers('library/unknown', subject.digest)).toEqual([]);
    });

    it('pages through referrers in digest order with n and last', async () => {
      const subject = await pushImage(ctx.metadata, 'library/a', 'paged-subject', { tag: 'v1' });
      const referrers = [];
      for (let i = 0; i < 5; i++) {
        referrers.push(await pushImage(ctx.metadata, 'library/a', `paged-${i}`, { subject: subject.digest, artifactType: SBOM }));
      }
      const sorted = referrers.map(recordOf).sort((x, y) => (x.digest < y.digest ? -1 : 1));
      const first = await manifests().listReferrers('library/a', subject.digest, { n: 2 });
      expect(first).toEqual(sorted.slice(0, 2));
      const second = await manifests().listReferrers('library/a', subject.digest, { n: 2, last: first[1]?.digest });
      expect(second).toEqual(sorted.slice(2, 4));
      const rest = await manifests().listReferrers('library/a', subject.digest, { last: second[1]?.digest });
      expect(rest).toEqual(sorted.slice(4));
      expect(await manifests().listReferrers('library/a', subject.digest, { n: 0 })).toEqual([]);
    });

    it('accepts a referrer before its subject, and forgets a deleted referrer', async () => {
      const subject = digestOf('not pushed yet');
      const sbom = await pushImage(ctx.metadata, 'library/a', 'sbom', { subject, artifactType: SBOM });
      expect(await manifests().listReferrers('library/a', subject)).toEqual([recordOf(sbom)]);
      await manifests().deleteManifest('library/a', sbom.digest);
      expect(await manifests().listReferrers('library/a', subject)).toEqual([]);
    });
  });
}
