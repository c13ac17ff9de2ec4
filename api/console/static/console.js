// Review Chain console: small progressive enhancements; every page works without them.
"use strict";

// Ask before an irreversible action (withdraw, misconduct): forms carry data-confirm.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// One click per decision: disable a form's buttons once it is sent.
document.addEventListener("submit", (event) => {
  if (event.defaultPrevented) return;
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  window.setTimeout(() => {
    form.querySelectorAll("button[type=submit]").forEach((button) => {
      button.disabled = true;
    });
  }, 0);
});

// The meeting page: count the members present as they are typed.
document.querySelectorAll("[data-count-for]").forEach((hint) => {
  const field = document.getElementById(hint.dataset.countFor);
  if (!field) return;
  const show = () => {
    const ids = new Set(field.value.split(/[\s,，]+/).filter(Boolean));
    hint.textContent = ids.size ? `到会 ${ids.size} 人 / ${ids.size} present` : "";
  };
  field.addEventListener("input", show);
  show();
});

// "Back" on the error page: the previous page where there is one (the link's own target, the
// console's home, otherwise). A handler, not a javascript: link, which the page's CSP forbids.
document.querySelectorAll("a[data-back]").forEach((link) => {
  link.addEventListener("click", (event) => {
    if (window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
});
