/** API times are UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`; the console shows them to the second, in UTC. */
export function formatTime(time: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(time);
  return m ? `${m[1]} ${m[2]} UTC` : time;
}
