// Serving, keyboard use, tablet width, errors in plain words, and the
// nurse's and administrator's landing pages.
import {api, browserTest, check, login, token} from './harness.mjs';

await browserTest('general', async ({server, newPage, step, shot}) => {
  await step('the page and its assets are served with their types and a strict CSP', async () => {
    const page = await fetch(`${server.url}/`);
    check(page.headers.get('content-type').startsWith('text/html'), 'text/html for /');
    const csp = page.headers.get('content-security-policy') || '';
    check(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `a strict CSP, got "${csp}"`);
    check(!/<script>/.test(await page.text()), 'no inline script in index.html');
    const script = await fetch(`${server.url}/assets/app.js`);
    check(script.status === 200 && script.headers.get('content-type').startsWith('text/javascript'), 'app.js as JavaScript');
    const style = await fetch(`${server.url}/assets/app.css`);
    check(style.headers.get('content-type').startsWith('text/css'), 'app.css as CSS');
    const missing = await fetch(`${server.url}/assets/nothing.js`);
    check(missing.status === 404, `404 for a missing asset, got ${missing.status}`);
  });

  await step('a wrong password is said in plain words, with the server\'s message', async () => {
    const page = await newPage();
    await login(page, server, 'physician-sara', 'not-the-password');
    const error = page.locator('#error');
    await error.filter({hasText: 'The username or password is wrong'}).waitFor();
    check((await error.innerText()).includes('login: wrong username or password'), 'the server\'s message to be shown too');
    check(await page.getByRole('alert').count() >= 1, 'the error to be in a role=alert region');
    await shot(page, 'login-wrong-password');
    await page.context().close();
  });

  await step('logging in and moving around works with the keyboard alone', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/`);
    await page.getByLabel('Username').waitFor();
    check(await page.evaluate(() => document.activeElement.name) === 'username', 'the username field to have the focus');
    await page.keyboard.type('physician-sara');
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.name) === 'password', 'Tab to move to the password');
    await page.keyboard.type('demo');
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.textContent) === 'Log in', 'Tab to reach the Log in button');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check(outline !== 'none', 'the focused button to show a focus outline');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', {name: 'My patients'}).waitFor();
    // The new page's heading has the focus; before it in the tab order
    // come the alerts (the demo has one: patient-05's medium NEWS2), then
    // the header: navigation, then Log out.
    check(await page.evaluate(() => document.activeElement.tagName) === 'H1', 'the heading to have the focus after login');
    await page.locator('#alerts .alert').first().waitFor();
    const focused = () => page.evaluate(() => document.activeElement.textContent);
    for (let stops = 0; ; ++stops) {
      await page.keyboard.press('Shift+Tab');
      if (await focused() === 'Log out') break;
      check(stops < 20 && await page.evaluate(() => document.getElementById('alerts').contains(document.activeElement)),
        `the stops between the heading and Log out to be the alerts' links and buttons, not "${await focused()}"`);
    }
    await page.keyboard.press('Shift+Tab');
    check(await focused() === 'Conflicts', 'then the last navigation link');
    await page.keyboard.press('Shift+Tab');
    check(await focused() === 'Plan changes to sign', 'then the proposal queue link');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', {name: 'Plan changes to sign'}).waitFor();
    check(await page.evaluate(() => document.activeElement.tagName) === 'H1', 'the new page\'s heading to take the focus');
    await page.context().close();
  });

  await step('a refused page says why in plain words; a physician may break the glass', async () => {
    const page = await newPage();
    await login(page, server, 'physician-sara');
    await page.getByRole('heading', {name: 'My patients'}).waitFor();
    await page.goto(`${server.url}/#/patients/patient-25`);
    await page.getByRole('heading', {name: 'This page could not be shown'}).waitFor();
    const text = await page.locator('#view').innerText();
    check(text.includes('You do not have permission to do this.') && text.includes('no care relationship with patient-25'),
      `a permission sentence and the server's reason: "${text}"`);
    // A physician may break the glass, with a reason that is audited.
    await page.getByLabel('Reason for emergency access').fill('Found unconscious, on call');
    await page.getByRole('button', {name: 'Read the record under emergency access'}).click();
    await page.locator('#view .notice', {hasText: 'Read under emergency access'}).waitFor();
    await page.getByRole('heading', {name: 'Timeline'}).waitFor();
    await shot(page, 'physician-emergency-access');
    const audit = await api(server, 'GET', '/api/v1/audit?emergency=true&user=physician-sara&patient=patient-25',
      {token: await token(server, 'coordinator-rolf')});
    check(audit.entries.some((e) => e.action === 'record.read' && e.purpose === 'emergency: Found unconscious, on call' &&
      e.outcome === 'allowed'), 'the emergency read in the audit log with its reason');
    await page.context().close();
  });

  await step('at tablet width (768 px) every role\'s pages fit the screen', async () => {
    const pages = {
      'coordinator-lena': ['#/patients', '#/patients/patient-01', '#/schedule', '#/board', '#/audit'],
      'physician-sara': ['#/patients', '#/patients/patient-05', '#/proposals', '#/conflicts'],
      'patient-01': ['#/me'],
    };
    for (const [username, hashes] of Object.entries(pages)) {
      const page = await newPage({width: 768, height: 1024});
      await login(page, server, username);
      await page.locator('#view h1').waitFor();
      for (const hash of hashes) {
        await page.goto(`${server.url}/${hash}`);
        await page.locator('#view h1').waitFor();
        await page.waitForFunction(() => !document.getElementById('view').hasAttribute('aria-busy'));
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        check(width <= 768, `${username}'s ${hash} to fit 768 px without scrolling sideways (it is ${width} px wide)`);
      }
      if (username === 'coordinator-lena') {
        await page.goto(`${server.url}/#/patients/patient-01`);
        await page.getByRole('heading', {name: 'Astrid Nyström', level: 1}).waitFor();
        await shot(page, 'tablet-768-coordinator-record');
      }
      await page.context().close();
    }
  });

  await step('a nurse lands on her patients and their timelines', async () => {
    const page = await newPage();
    await login(page, server, 'nurse-karin');
    await page.getByRole('heading', {name: 'My patients'}).waitFor();
    await page.getByRole('link', {name: 'Astrid Nyström'}).click();
    await page.getByRole('heading', {name: 'Timeline'}).waitFor();
    await shot(page, 'nurse-record');
    await page.context().close();
  });

  await step('an administrator lands on a page saying what administrators do', async () => {
    const page = await newPage();
    await login(page, server, 'admin-ada');
    await page.getByRole('heading', {name: 'Administration'}).waitFor();
    await page.getByText('you have no access to patients\' records').waitFor();
    await page.getByRole('button', {name: 'Revoke the device'}).waitFor();
    await shot(page, 'admin');
    await page.context().close();
  });
});
