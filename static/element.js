// Mounts Stripe's Payment Element on Kasse's payment step and confirms with Stripe.js.
// The server reads the outcome back from Stripe on the return URL; nothing here is trusted.
(function () {
  'use strict';
  var form = document.getElementById('element-form');
  if (!form || typeof window.Stripe !== 'function') {
    var failed = document.getElementById('element-unavailable');
    if (failed) failed.hidden = false;
    return;
  }
  var loading = document.getElementById('element-loading');
  var button = document.getElementById('element-submit');
  if (loading) loading.hidden = false;
  button.hidden = false;
  var data = form.dataset;
  var stripe = window.Stripe(data.publishableKey);
  var elements = stripe.elements({ clientSecret: data.clientSecret });
  var element = elements.create('payment');
  var message = document.getElementById('element-error');
  element.mount('#payment-element');
  element.on('ready', function () {
    if (loading) loading.hidden = true;
    button.disabled = false;
  });
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    button.disabled = true;
    message.textContent = '';
    var params = { elements: elements, confirmParams: { return_url: data.returnUrl } };
    var confirm = data.kind === 'setup' ? stripe.confirmSetup(params) : stripe.confirmPayment(params);
    function show(text) {
      message.textContent = text || data.failed;
      button.disabled = false;
      message.focus();
    }
    confirm.then(function (result) {
      // Only reached on an immediate error; success redirects to the return URL.
      if (result && result.error) show(result.error.message);
    }, function () {
      // Stripe.js rejects on integration errors: say it did not work, and let them try again.
      show(data.failed);
    });
  });
})();
