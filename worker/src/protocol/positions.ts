/** Text positions as the Language Server Protocol counts them: 0-based lines and UTF-16 code units. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}
