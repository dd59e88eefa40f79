// Resource viewers: swap an image's thumbnail for the full picture once the full one has loaded.
document.addEventListener("DOMContentLoaded", () => {
  for (const img of document.querySelectorAll(".viewer-image img[data-full-src]")) {
    const full = new Image();
    full.onload = () => { img.src = full.src; };
    full.src = img.dataset.fullSrc;
  }
});
