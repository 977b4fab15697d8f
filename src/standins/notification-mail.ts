/** Faspex "package received" notifications as a Faspex server sends them, for tests and the demo. */
export function faspex4Notification(options: { link: string; title: string; to?: string; messageId?: string; from?: string }): string {
  const to = options.to ?? 'ingest@example.com';
  const boundary = `b-${Math.random().toString(16).slice(2)}`;
  const html = `<html><body><p>You received the package <b>${options.title}</b>.</p><p><a href="${options.link.replace(/&/g, '&amp;')}">Download package</a></p></body></html>`;
  return [
    `From: ${options.from ?? 'Faspex <faspex@faspex.example.com>'}`,
    `To: ${to}`,
    `Subject: Package received: ${options.title}`,
    `Message-ID: ${options.messageId ?? `<${Math.random().toString(16).slice(2)}@faspex.example.com>`}`,
    'Date: Fri, 27 Nov 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `You received the package ${options.title}.`,
    `Download it here: ${options.link}`,
    '',
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    html,
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
