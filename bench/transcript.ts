/**
 * What `npm run bench` prints: written to stdout as it comes, and kept, so that the whole printout
 * can also go into a results file (`--results=FILE`).
 */
export class Transcript {
  private readonly parts: string[] = [];

  write(text: string): void {
    process.stdout.write(text);
    this.parts.push(text);
  }

  text(): string {
    return this.parts.join('');
  }
}
