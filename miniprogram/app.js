/* The parents' mini program: sign in once at launch (utils/api.js signs in again on 401). */
var api = require('./utils/api.js');

App({
	onLaunch: function () {
		if (!wx.getStorageSync(api.TOKEN_KEY))
			api.login().catch(function () { /* the first request tries again */ });
	}
});
