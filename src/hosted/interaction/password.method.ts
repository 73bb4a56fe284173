import { Injectable } from '@nestjs/common';
import { UsersService } from '../../users/users.service.js';
import type { LoginMethod, LoginMethodView, LoginOutcome, Settings } from './login-methods.js';
import { esc } from '../kit/layout.js';

const WRONG = 'The username or password is incorrect.';

/** Username-or-email and password, checked with bcrypt by the directory. */
@Injectable()
export class PasswordLoginMethod implements LoginMethod {
  readonly id = 'password';
  readonly failureMessage = WRONG;

  constructor(private readonly users: UsersService) {}

  enabled(settings: Settings): boolean {
    return settings.password_enabled;
  }

  loginName(form: Record<string, string>): string | undefined {
    return typeof form.login === 'string' && form.login.trim() ? form.login : undefined;
  }

  render(v: LoginMethodView): string {
    return `<section class="method" aria-label="Sign in with a password">
<form method="post" action="${esc(v.action)}">
<input type="hidden" name="csrf" value="${esc(v.csrf)}">
<input type="hidden" name="method" value="password">
<label for="login">${v.settings.has_username_and_email ? 'Username or email' : 'Email'}</label>
<input id="login" type="${v.settings.has_username_and_email ? 'text' : 'email'}" name="login" value="${esc(v.loginHint ?? '')}" autocomplete="${v.settings.passkey_enabled ? 'username webauthn' : 'username'}" autocapitalize="none" spellcheck="false" required${v.loginHint ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" type="password" name="password" autocomplete="current-password" required${v.loginHint ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>
</section>`;
  }

  async authenticate(
    tenantId: string,
    form: Record<string, string>,
    _settings: Settings,
  ): Promise<LoginOutcome> {
    const login = typeof form.login === 'string' ? form.login : '';
    const password = typeof form.password === 'string' ? form.password : '';
    if (!login.trim() || !password) {
      return { status: 'failed', message: 'Enter your username or email and your password.' };
    }
    // A bounded password: bcrypt reads 72 bytes, and a megabyte-long one is only a cost to us.
    if (password.length > 1024) return { status: 'failed', message: WRONG };
    const user = await this.users.findForLogin(tenantId, login);
    // verifyPassword spends a bcrypt compare even without a user, so timing tells nothing.
    const ok = await this.users.verifyPassword(tenantId, user, password);
    if (!user || !ok) return { status: 'failed', message: WRONG, accountId: user?.user_id };
    if (user.is_disabled) {
      return {
        status: 'refused',
        description: 'This account is disabled.',
        accountId: user.user_id,
      };
    }
    return { status: 'success', accountId: user.user_id, amr: ['pwd'] };
  }
}
