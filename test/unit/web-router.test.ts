import { returnPath, signInFor } from '../../web/router';

describe('where a sign-in goes back to', () => {
  it('is the page that asked, with its query', () => {
    expect(returnPath(new URL(`http://x${signInFor('/admin/requests?status=FAILED')}`).search)).toBe(
      '/admin/requests?status=FAILED',
    );
  });

  it.each(['', '?next=', '?next=https://evil.example/', '?next=//evil.example/', '?next=/signin', '?next=/signup?x=1'])(
    'is home for %j',
    (search) => {
      expect(returnPath(search)).toBe('/');
    },
  );
});
