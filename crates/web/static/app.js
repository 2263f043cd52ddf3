// Rapport: the one script of the UI (no inline script is allowed by the CSP).
// Progressive enhancement only; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Forms marked data-confirm ask before they submit (erasure, close an alert).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  }
  // Selects marked data-autosubmit submit their form on change (filters).
  for (const sel of document.querySelectorAll("select[data-autosubmit]")) {
    sel.addEventListener("change", () => sel.form && sel.form.submit());
  }
});
