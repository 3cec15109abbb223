// Kasse pages: progressive enhancement only. Without this script every page works the same.
(function () {
  var form = document.getElementById('checkout-form');
  if (form) {
    // Say what is happening and prevent a double submit while a payment is on its way.
    form.addEventListener('submit', function (event) {
      var button = event.submitter;
      if (!button || button.value !== 'pay') return;
      if (form.dataset.submitting === '1') { event.preventDefault(); return; }
      form.dataset.submitting = '1';
      // A hidden copy keeps the pressed button's value once the button is disabled.
      var keep = document.createElement('input');
      keep.type = 'hidden'; keep.name = 'action'; keep.value = 'pay';
      form.appendChild(keep);
      button.disabled = true;
      button.textContent = button.dataset.processing || button.textContent;
    });
  }
  var errors = document.getElementById('errors') || document.getElementById('payment-alert');
  if (errors) { errors.focus(); }
})();
