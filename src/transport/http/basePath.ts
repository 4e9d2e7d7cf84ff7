/** Where the API lives: every route, Location header and the OpenAPI document are under it. */
export const BASE_PATH = '/api/v1';
