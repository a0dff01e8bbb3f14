/** Client-side navigation: the server answers every page path with index.html. */
export function navigate(path: string) {
  if (location.pathname === path) return;
  history.pushState(null, '', path);
  window.dispatchEvent(new Event('podium-navigate'));
}

/** Lets plain `<a href>` links navigate without a reload. */
export function interceptLinks(event: MouseEvent) {
  const link = event.composedPath().find((node): node is HTMLAnchorElement => node instanceof HTMLAnchorElement);
  if (!link || link.origin !== location.origin || link.target || event.metaKey || event.ctrlKey) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
}

/**
 * Where a sign-in goes back to: `?next=` when it names a page of this app (a path, never another
 * site or the sign-in pages themselves), else home.
 */
export function returnPath(search: string): string {
  const next = new URLSearchParams(search).get('next');
  if (!next || !next.startsWith('/') || next.startsWith('//') || /^\/sign(in|up)\b/.test(next)) return '/';
  return next;
}

/** The sign-in page's address that comes back to `path` afterwards. */
export const signInFor = (path: string) => `/signin?next=${encodeURIComponent(path)}`;
