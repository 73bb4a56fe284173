import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DomainError } from '../common/domain-error.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Display name of the sender, usually the tenant's. */
  fromName?: string;
}

export const mailDisabled = () =>
  new DomainError(
    'unavailable',
    'mail-disabled',
    'This server sends no mail (SMTP_URL is not set), so this action is unavailable',
    { title: 'Mail is not configured' },
  );

/** Outgoing mail through nodemailer over SMTP_URL; without it, flows that need mail answer 503. */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private readonly transport?: Transporter;
  private readonly fromAddress: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (config.smtpUrl) {
      this.transport = nodemailer.createTransport(config.smtpUrl);
    } else {
      this.logger.log(
        'mail is disabled (SMTP_URL is not set): verification, reset and sign-in mails are unavailable',
      );
    }
    this.fromAddress = `no-reply@${mailDomain(config.publicUrl)}`;
  }

  get enabled(): boolean {
    return this.transport !== undefined;
  }

  /** Throws the 503 problem when mail is off, before a flow does any work. */
  assertEnabled(): void {
    if (!this.transport) throw mailDisabled();
  }

  async send(message: MailMessage): Promise<void> {
    if (!this.transport) throw mailDisabled();
    await this.transport.sendMail({
      from: { name: message.fromName ?? 'Identity', address: this.fromAddress },
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
  }

  onModuleDestroy() {
    this.transport?.close();
  }
}

/** The sender's domain: PUBLIC_URL's host name, or `localhost` when that is an IP address. */
function mailDomain(publicUrl: string): string {
  const host = new URL(publicUrl).hostname;
  return /^[a-z0-9.-]+$/i.test(host) && !/^\d+(\.\d+){3}$/.test(host) ? host : 'localhost';
}
