/* The API's base URL: the site's https name, registered as the mini program's
 * request domain (and as its socket domain, wss://, for the live push). */
module.exports = {
	baseUrl: 'https://gym.example.com',
	pollMs: 1000,
	waitPaidMs: 60000,
	/* a class's seats read this often when its push channel is not connected */
	classPollMs: 10000
};
