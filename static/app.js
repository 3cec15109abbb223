// Kasse pages: progressive enhancement only. Without this script every page works the same.
(function () {
  var form = document.getElementById('checkout-form');
  if (form) {
    // Enter presses the field's own button: Apply in the promo field, Update in a quantity, Pay
    // anywhere else. (Without this script the hidden default button posts `enter`, which the server
    // reads as Pay, or Apply while a code is typed.)
    form.addEventListener('keydown', function (event) {
      var field = event.target;
      if (event.key !== 'Enter' || event.isComposing || !field || field.tagName !== 'INPUT') return;
      var button = null;
      if (field.id === 'promo_code') {
        button = document.getElementById('apply_promo');
      } else if (field.name && field.name.indexOf('qty.') === 0) {
        button = field.parentNode.querySelector('button[value="update"]');
      } else {
        button = document.getElementById('pay_button');
      }
      if (!button || button.disabled) return;
      event.preventDefault();
      if (form.requestSubmit) { form.requestSubmit(button); } else { button.click(); }
    });
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
  var contractForm = document.getElementById('contract-form');
  if (contractForm) {
    // One signature at a time: a double click must not post the form twice.
    contractForm.addEventListener('submit', function (event) {
      var button = event.submitter;
      if (!button || button.value !== 'sign') return;
      if (contractForm.dataset.submitting === '1') { event.preventDefault(); return; }
      contractForm.dataset.submitting = '1';
      var keep = document.createElement('input');
      keep.type = 'hidden'; keep.name = 'action'; keep.value = 'sign';
      contractForm.appendChild(keep);
      button.disabled = true;
      button.textContent = button.dataset.processing || button.textContent;
    });
  }
  var pad = document.querySelector('[data-signature-pad]');
  if (pad) { signaturePad(pad); }
  // Printing needs the script only for the button; the print stylesheet works from the browser menu too.
  var printers = document.querySelectorAll('[data-print]');
  for (var i = 0; i < printers.length; i++) {
    printers[i].hidden = false;
    printers[i].querySelector('button').addEventListener('click', function () { window.print(); });
  }
  var errors = document.getElementById('errors') || document.getElementById('payment-alert') ||
    document.getElementById('contract-alert');
  if (errors) { errors.focus(); }

  // The optional drawn signature: strokes on a canvas (mouse, pen or touch), kept as a PNG data URL in
  // the hidden `signature_image` field. The typed name is the signature either way.
  function signaturePad(pad) {
    var canvas = pad.querySelector('canvas');
    var input = document.getElementById('signature_image');
    var clear = pad.querySelector('[data-clear]');
    var box = canvas && canvas.parentNode;
    var ctx = canvas && canvas.getContext && canvas.getContext('2d');
    if (!ctx || !input || !clear) return;
    pad.hidden = false;
    var ratio = 1, drawing = false, last = null;

    // The backing store follows the shown size (at most 2x, to keep the PNG small) so strokes stay
    // sharp. Resizing a canvas wipes it, so a saved drawing is painted back.
    function fit() {
      ratio = Math.min(window.devicePixelRatio || 1, 2);
      var rect = canvas.getBoundingClientRect();
      var w = Math.round(rect.width * ratio), h = Math.round(rect.height * ratio);
      if (!w || (canvas.width === w && canvas.height === h)) return;
      canvas.width = w; canvas.height = h;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
      ctx.strokeStyle = ctx.fillStyle = '#1a1a1a';
      if (input.value) {
        var img = new Image();
        img.onload = function () { ctx.drawImage(img, 0, 0, rect.width, rect.height); };
        img.src = input.value;
        box.classList.add('drawn');
      }
    }
    function point(e) {
      var rect = canvas.getBoundingClientRect();
      return { x: e.clientX - rect.left, y: e.clientY - rect.top };
    }
    function save() {
      var url = canvas.toDataURL('image/png');
      // The server takes at most 300 kB; a larger drawing is dropped, not half-sent.
      input.value = url.length <= 300000 ? url : '';
    }
    canvas.addEventListener('pointerdown', function (e) {
      if (pad.dataset.disabled) return;
      e.preventDefault();
      drawing = true;
      last = point(e);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(e.pointerId); }
      // A dot, so a tap leaves a mark too.
      ctx.beginPath(); ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2); ctx.fill();
      box.classList.add('drawn');
    });
    canvas.addEventListener('pointermove', function (e) {
      if (!drawing) return;
      var p = point(e);
      ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
      last = p;
    });
    function end() { if (drawing) { drawing = false; save(); } }
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    clear.addEventListener('click', function () {
      ctx.save(); ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.clearRect(0, 0, canvas.width, canvas.height); ctx.restore();
      input.value = '';
      box.classList.remove('drawn');
    });
    window.addEventListener('resize', fit);
    fit();
  }
})();

// The hosted invoice page: one payment at a time. The card form needs no pressed-button value, so
// the button can simply be disabled; the print button and the focus on errors are handled above.
(function () {
  var form = document.getElementById('invoice-pay-form');
  if (!form) return;
  var button = form.querySelector('button[type="submit"]');
  var label = button && button.textContent;
  form.addEventListener('submit', function (event) {
    if (form.dataset.submitting === '1') { event.preventDefault(); return; }
    form.dataset.submitting = '1';
    if (button) {
      button.disabled = true;
      button.textContent = button.dataset.processing || label;
    }
  });
  // Back from the bank's page (the back/forward cache keeps the disabled form): usable again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    form.dataset.submitting = '';
    if (button) { button.disabled = false; button.textContent = label; }
  });
})();
