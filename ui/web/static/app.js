// counterdesk staff pages: confirmations, the live ticket list, bulk
// selection and alerts for urgent tickets. No inline script anywhere: the
// pages' content security policy forbids it.
(function () {
  'use strict';

  // Forms with data-confirm ask first.
  document.addEventListener('submit', function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });

  // Alerts for urgent tickets: the person turns them on, in the header or
  // on the list; the choice is kept in this browser. The sound needs no
  // permission; the notification needs the browser's.
  var alertsKey = 'counterdesk.alerts';
  var stored = function () {
    try {
      return localStorage.getItem(alertsKey) === 'on';
    } catch (e) {
      return false;
    }
  };
  var store = function (on) {
    try {
      localStorage.setItem(alertsKey, on ? 'on' : 'off');
    } catch (e) { /* private mode: the choice lasts for this page */ }
  };
  var canNotify = function () {
    return 'Notification' in window && window.Notification.permission === 'granted';
  };
  var askPermission = function (done) {
    if (!('Notification' in window) || window.Notification.permission !== 'default') {
      done();
      return;
    }
    var p = window.Notification.requestPermission(done);
    if (p && p.then) {
      p.then(done, done);
    }
  };

  // beep plays a short two-tone chime made with Web Audio: no sound file.
  var audio = null;
  var audioContext = function () {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) {
      return null;
    }
    if (!audio) {
      audio = new AC();
    }
    if (audio.state === 'suspended' && audio.resume) {
      audio.resume();
    }
    return audio;
  };
  var beep = function () {
    var ctx = audioContext();
    if (!ctx) {
      return;
    }
    var t = ctx.currentTime;
    [880, 660].forEach(function (freq, i) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.25, t + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.18 + 0.16);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(t + i * 0.18);
      osc.stop(t + i * 0.18 + 0.17);
    });
  };

  var headerToggle = document.getElementById('notify-toggle');
  var pageToggle = document.getElementById('urgent-alerts');
  var showState = function () {
    if (headerToggle) {
      headerToggle.textContent = stored() ? 'Alerts on' : 'Enable alerts';
      headerToggle.setAttribute('aria-pressed', stored() ? 'true' : 'false');
    }
    if (pageToggle) {
      pageToggle.checked = stored();
    }
  };
  var setAlerts = function (on) {
    store(on);
    if (on) {
      audioContext(); // made during the click, so the browser lets it play
      askPermission(showState);
    }
    showState();
  };
  if (headerToggle) {
    headerToggle.hidden = false;
    headerToggle.addEventListener('click', function () {
      setAlerts(!stored());
    });
  }
  if (pageToggle) {
    pageToggle.addEventListener('change', function () {
      setAlerts(pageToggle.checked);
    });
  }
  showState();

  // alertUrgent plays the sound and shows a notification for ticket d.
  var alertUrgent = function (d) {
    if (!stored()) {
      return;
    }
    document.body.setAttribute('data-last-alert', String(d.number));
    try {
      beep();
    } catch (e) { /* no audio device */ }
    if (canNotify()) {
      var n = new window.Notification('Urgent ticket #' + d.number, { body: d.subject || '', tag: 'ticket-' + d.number });
      n.onclick = function () {
        window.focus();
        window.location.href = '/tickets/' + d.number;
      };
    }
  };

  var table = document.getElementById('tickets');

  // Bulk selection: a box for every row shown, and a count in the bar.
  var bulk = document.getElementById('bulk');
  var pickAll = document.getElementById('pick-all');
  var picked = document.getElementById('picked');
  var picks = function () {
    return table ? Array.prototype.slice.call(table.querySelectorAll('input.pick')) : [];
  };
  var countPicks = function () {
    var all = picks();
    var n = all.filter(function (b) { return b.checked; }).length;
    if (picked) {
      picked.textContent = n === 0 ? 'Select tickets to change them together:' : n + (n === 1 ? ' ticket selected:' : ' tickets selected:');
    }
    if (pickAll) {
      pickAll.checked = n > 0 && n === all.length;
      pickAll.indeterminate = n > 0 && n < all.length;
    }
    if (bulk) {
      bulk.setAttribute('data-picked', String(n));
    }
  };
  if (table && bulk) {
    table.addEventListener('change', function (ev) {
      if (ev.target.classList && ev.target.classList.contains('pick')) {
        countPicks();
      }
    });
    if (pickAll) {
      pickAll.hidden = false;
      pickAll.addEventListener('change', function () {
        picks().forEach(function (b) { b.checked = pickAll.checked; });
        countPicks();
      });
    }
    countPicks();
  }

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
    // A new urgent ticket alerts even when this list does not show it.
    if (d.priority === 'urgent' && d.action !== 'remove' &&
        (d.kind === 'ticket.created' || (old && !wasUrgent))) {
      alertUrgent(d);
    }
    if (d.action === 'remove') {
      if (old) {
        old.remove();
        countPicks();
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
      // Keep the person's selection across the update.
      var was = old.querySelector('input.pick');
      var now = tr.querySelector('input.pick');
      if (was && now) {
        now.checked = was.checked;
      }
      old.remove();
    }
    body.insertBefore(tr, body.firstChild);
    var empty = document.getElementById('empty');
    if (empty) {
      empty.remove();
    }
    countPicks();
    say('Ticket #' + d.number + (d.kind === 'ticket.created' ? ' arrived.' : ' changed.'));
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
