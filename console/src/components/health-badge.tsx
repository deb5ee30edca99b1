import { formatTime } from '../time-format.ts';

const HEALTH_TEXT: Record<string, string> = {
  healthy: 'Healthy',
  unhealthy: 'Unhealthy',
  unknown: 'Unknown',
};

/** health_status with its check time (SIP OPTIONS probes; "unknown" while probes are off). */
export function HealthBadge({ status, checkedAt }: { status: string; checkedAt: string | null }) {
  const title = checkedAt ? `checked ${formatTime(checkedAt)}` : 'not checked yet (OPTIONS probes are off, or none has run)';
  return (
    <span class={`badge badge-${HEALTH_TEXT[status] ? status : 'unknown'}`} title={title}>
      {HEALTH_TEXT[status] ?? status}
    </span>
  );
}

const REGISTRATION_TEXT: Record<string, string> = {
  off: 'Off',
  registering: 'Registering',
  registered: 'Registered',
  failed: 'Failed',
};

/** registration_status, when the API reports it. */
export function RegistrationBadge({ status, checkedAt }: { status: string; checkedAt: string | null | undefined }) {
  const tone = status === 'registered' ? 'healthy' : status === 'failed' ? 'unhealthy' : 'unknown';
  return (
    <span class={`badge badge-${tone}`} title={checkedAt ? `checked ${formatTime(checkedAt)}` : undefined}>
      {REGISTRATION_TEXT[status] ?? status}
    </span>
  );
}
