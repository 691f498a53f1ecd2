// counterdesk staff pages: confirmations, the live ticket list and alerts
// for urgent tickets. No inline script anywhere: the pages' content
// security policy forbids it.
(function () {
  'use strict';

  // Forms with data-confirm ask first.
  document.addEventListener('submit', function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });

  // Alerts: the person turns them on; the choice is kept in this browser.
  var alertsOn = function () {
    return 'Notification' in window && Notification.permission === 'granted' &&
      localStorage.getItem('counterdesk.alerts') === 'on';
  };
  var toggle = document.getElementById('notify-toggle');
  if (toggle && 'Notification' in window) {
    var label = function () {
      toggle.textContent = alertsOn() ? 'Alerts on' : 'Enable alerts';
    };
    toggle.hidden = false;
    label();
    toggle.addEventListener('click', function () {
      if (alertsOn()) {
        localStorage.setItem('counterdesk.alerts', 'off');
        label();
        return;
      }
      Notification.requestPermission().then(function (p) {
        if (p === 'granted') {
          localStorage.setItem('counterdesk.alerts', 'on');
        }
        label();
      });
    });
  }

  var table = document.getElementById('tickets');
  var url = table && table.getAttribute('data-events');
  if (!url || !('EventSource' in window)) {
    return;
  }
  var body = table.tBodies[0];
  var live = document.getElementById('live');
  var say = function (text) {
    if (live) {
      live.textContent = text;
    }
  };

  // The row HTML comes from the server's own template, escaped there.
  var parseRow = function (html) {
    var t = document.createElement('template');
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  };

  var onTicket = function (ev) {
    var d;
    try {
      d = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    var old = document.getElementById('t-' + d.number);
    var wasUrgent = old && old.getAttribute('data-priority') === 'urgent';
    if (d.action === 'remove') {
      if (old) {
        old.remove();
      }
      return;
    }
    if (!d.html || (d.action === 'update' && !old)) {
      return;
    }
    var tr = parseRow(d.html);
    if (!tr) {
      return;
    }
    tr.classList.add('fresh');
    if (old) {
      old.remove();
    }
    body.insertBefore(tr, body.firstChild);
    var empty = document.getElementById('empty');
    if (empty) {
      empty.remove();
    }
    say('Ticket #' + d.number + (d.kind === 'ticket.created' ? ' arrived.' : ' changed.'));
    if (d.priority === 'urgent' && !wasUrgent && alertsOn()) {
      var n = new Notification('Urgent ticket #' + d.number, { body: d.subject || '', tag: 'ticket-' + d.number });
      n.onclick = function () {
        window.focus();
        window.location.href = '/tickets/' + d.number;
      };
    }
  };

  var source = new EventSource(url);
  source.addEventListener('ticket', onTicket);
  source.addEventListener('reload', function () {
    source.close();
    window.location.reload();
  });
  source.addEventListener('open', function () {
    table.setAttribute('data-live', 'on');
    say('');
  });
  source.addEventListener('error', function () {
    table.setAttribute('data-live', 'off');
    say('Live updates paused; reconnecting…');
  });
})();
