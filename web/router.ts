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
